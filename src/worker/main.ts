import '../telemetry/preload'; // first: traces need it loaded before what they instrument
import { runMain } from '../boot';

runMain('worker');

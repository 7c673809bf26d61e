import './telemetry/preload'; // first: traces need it loaded before what they instrument
import { runMain } from './boot';

// npm start: API + worker (+ embedded S3 when S3_ENDPOINT is unset) in one process.
runMain('all');

import { runMain } from '../boot';

runMain('worker');

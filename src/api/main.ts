import { runMain } from '../boot';

runMain('api');

#!/usr/bin/env node
import { runServerFromEnv } from './run.js';

await runServerFromEnv();

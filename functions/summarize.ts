import { createSummarizeHandler } from '../layers/workflow/summarize.js';

/** The workflow's last step: record the run's outcome, emit its events and the out-of-sync metric. */
export const handler = createSummarizeHandler();

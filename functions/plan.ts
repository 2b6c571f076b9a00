import { createPlanHandler } from '../layers/workflow/plan.js';

/** The workflow's plan step: validate the request, expand its selector, record the run, return the groups. */
export const handler = createPlanHandler();

import { createPlanStepHandler } from '../layers/workflow/plan.js';

/** The workflow's plan step: validate the request, expand its selector, record the run, write the groups for the Map to read. */
export const handler = createPlanStepHandler();

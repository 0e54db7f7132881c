export { CareBridgeError, type CareBridgeErrorOptions, isCareBridgeError } from './carebridge-error.js';
export { errorFactory, errors } from './catalog.js';
export { firstIssue, type Issue } from './issue.js';
export { normalizeError, PROBLEM_CONTENT_TYPE, type Problem, problemType, toProblem } from './problem.js';

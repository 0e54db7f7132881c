export { CareBridgeError, type CareBridgeErrorOptions, isCareBridgeError } from './carebridge-error.js';
export { errorFactory, errors } from './catalog.js';
export { normalizeError, PROBLEM_CONTENT_TYPE, type Problem, problemType, toProblem } from './problem.js';

export { CareBridgeError, isCareBridgeError, type CareBridgeErrorOptions } from './carebridge-error.js';
export { errors, errorFactory } from './catalog.js';
export { normalizeError, toProblem, problemType, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';

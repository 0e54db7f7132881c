export {
  BUSINESS_METRIC_MESSAGE_TYPE,
  BUSINESS_METRICS_DESTINATION,
  type BusinessMetric,
  enqueueBusinessMetric,
} from './business-metric.js';

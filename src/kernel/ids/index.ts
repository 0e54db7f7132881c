export { newId, newUlid, pooledRandom } from './ulid.js';

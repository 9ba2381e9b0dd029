// What @xivo-auth/client's node:http / node:https imports resolve to in the
// browser bundle: the client is given `fetch` there and never calls these.
function unavailable(): never {
  throw new Error('node:http is not available in a browser: give the client `fetch`');
}
export class Agent {
  destroy(): void {}
}
export const STATUS_CODES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
export const request = unavailable;
export default { Agent, STATUS_CODES, request };

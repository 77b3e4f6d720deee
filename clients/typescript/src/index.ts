// The Atribuo SDK: the generated client (functions named after the operation ids: skillsList,
// authLogin …), its zod schemas and TanStack Query options, and the realtime helper.
export * from './gen/index.js';
export { client } from './gen/client.gen.js';
export * as schemas from './gen/zod.gen.js';
export * as queries from './gen/@tanstack/react-query.gen.js';
export { Realtime } from './realtime.js';
export type * from './realtime.js';

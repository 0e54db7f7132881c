import { z } from 'zod';

/** The problem+json body (RFC 9457) as an OpenAPI response, naming the codes a route may answer with. */
export const problemResponse = (codes: string) =>
  z
    .looseObject({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      detail: z.string(),
      code: z.string(),
      requestId: z.string(),
    })
    .describe(`application/problem+json; code: ${codes}`);

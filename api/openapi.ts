/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas (zod-openapi), so
 * the document describes exactly the routes the app registers, with the parameters they validate.
 */
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { createDocument } from 'zod-openapi';
import { type ApiErrorCode, ERROR_STATUS } from './errors.js';
import type { Route } from './route.js';
import { errorBody as errorSchema } from './schemas.js';

/** Errors every route may answer. */
const COMMON: readonly ApiErrorCode[] = ['bad_parameter', 'unauthorized', 'rate_limited', 'internal'];

const DESCRIPTION = `Every read of flowcast's data: exporters and their templates, interfaces, traffic, top talkers,
protocols, forecasts, the capacity table, anomalies and the analytics jobs. Times accept RFC 3339,
Unix seconds, \`now\` and relative forms such as \`-24h\`. Tabular endpoints answer CSV with
\`Accept: text/csv\` or \`format=csv\`. Errors are \`{"error":{"code","message"}}\`. When the
service has an API token, send it as \`Authorization: Bearer <token>\`.`;

/** The document for `routes`, as served at /api/v1/openapi.json. */
export function openApiDocument(
  routes: readonly Route[],
  version: string,
): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    const operation: ZodOpenApiOperationObject = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description !== undefined && { description: route.description }),
      tags: [route.tag],
      responses: {},
    };
    if (route.kind === 'json') {
      operation.requestParams = {
        query: route.query as never,
        ...(route.params !== undefined && { path: route.params as never }),
      };
      const content: Record<string, { schema: unknown }> = { 'application/json': { schema: route.response } };
      if (route.csv) content['text/csv'] = { schema: { type: 'string' } };
      operation.responses[String(route.successStatus ?? 200) as '200'] = {
        description: route.summary,
        content: content as never,
      };
      const codes = new Set<ApiErrorCode>([...COMMON, ...route.errors]);
      if (route.csv) codes.add('not_acceptable');
      for (const code of codes) {
        const status = String(ERROR_STATUS[code]) as '400';
        const existing = operation.responses[status] as { description: string } | undefined;
        operation.responses[status] = {
          description: existing === undefined ? code : `${existing.description}, ${code}`,
          content: { 'application/json': { schema: errorSchema } },
        };
      }
      if (route.public === true) operation.security = [];
    } else {
      if (route.params !== undefined) operation.requestParams = { path: route.params as never };
      operation.responses['200'] = {
        description: route.summary,
        content: { [route.contentType]: { schema: { type: 'string' } } } as never,
      };
      operation.responses['401'] = {
        description: 'unauthorized (when this page needs the token)',
        content: { 'application/json': { schema: errorSchema } },
      };
    }
    item[route.method] = operation;
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'flowcast API', version, description: DESCRIPTION },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
  });
}

import type { FastifyInstance, FastifyReply, FastifySchema, HTTPMethods } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../auth';
import { badRequest } from '../errors';
import type { Access } from '../plugins/auth';

type Part = z.ZodType | undefined;
type Out<S extends Part> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<Q extends Part, P extends Part, B extends Part> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tags: string[];
  access?: Access;
  query?: Q;
  params?: P;
  body?: B;
  /** the 200 answer, for the OpenAPI document (the handler's output; serialized as JSON) */
  response?: z.ZodType;
  handler: (
    input: { query: Out<Q>; params: Out<P>; body: Out<B>; principal: Principal },
    reply: FastifyReply,
  ) => Promise<unknown>;
}

/** zod → JSON Schema (OpenAPI 3.0 flavour) for /docs; validation itself stays with zod. */
function toJson(s: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(s, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}

/**
 * Registers one route: JSON Schemas go to fastify (and so to the OpenAPI document), while a
 * per-route validatorCompiler runs the zod schemas, so what is documented and what is
 * enforced come from one definition. A zod failure becomes a 400 with details per issue.
 */
export function defineRoute<
  Q extends Part = undefined,
  P extends Part = undefined,
  B extends Part = undefined,
>(app: FastifyInstance, spec: RouteSpec<Q, P, B>): void {
  const parts: Record<string, z.ZodType | undefined> = {
    querystring: spec.query,
    params: spec.params,
    body: spec.body,
  };
  const schema: FastifySchema & Record<string, unknown> = {
    summary: spec.summary,
    tags: spec.tags,
  };
  if (spec.query) schema.querystring = toJson(spec.query);
  if (spec.params) schema.params = toJson(spec.params);
  if (spec.body) schema.body = toJson(spec.body);
  if (spec.response) schema.response = { 200: toJson(spec.response) };
  if (spec.access) {
    schema.security = [{ bearer: [] }];
    schema.description = accessDoc(spec.access);
  }
  app.route({
    method: spec.method,
    url: spec.url,
    schema,
    config: spec.access ? { access: spec.access } : {},
    // the documented response is not a serializer: the handler's output goes out as it is
    ...(spec.response ? { serializerCompiler: () => (data: unknown) => JSON.stringify(data) } : {}),
    validatorCompiler: ({ httpPart }) => {
      const zs = httpPart ? parts[httpPart] : undefined;
      return (data: unknown) => {
        if (!zs) return { value: data };
        const r = zs.safeParse(data ?? {});
        return r.success ? { value: r.data } : { error: badRequest(httpPart ?? 'input', r.error) };
      };
    },
    handler: async (req, reply) =>
      spec.handler(
        {
          query: req.query as Out<Q>,
          params: req.params as Out<P>,
          body: req.body as Out<B>,
          principal: req.principal as Principal,
        },
        reply,
      ),
  });
}

/** Who may call, for the OpenAPI document (the auth hook enforces `config.access`). */
function accessDoc(access: Access): string {
  const who =
    access === 'metrics'
      ? 'an sre or admin key, or TILLWATCH_METRICS_TOKEN'
      : access.map((r) => (r === 'merchant' ? 'merchant (its own merchant only)' : r)).join(', ');
  return (
    `\`Authorization: Bearer <api key>\`. Roles: ${who}. Errors are \`{ error, message, details }\`: ` +
    '400 bad input (details per problem), 401 no or unknown key, 403 role, 404, 429, 503.'
  );
}

// ---- shared input schemas -------------------------------------------------------------------

export const idParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'only [A-Za-z0-9_.:-] allowed');
export const windowParam = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a window such as 1m, 5m, 1h');
/**
 * Every time parameter (since, until, ...): epoch ms in decimal digits or ISO-8601 with an
 * offset, 2000-01-01 .. 2100-01-01 (@tillwatch/contracts api-time.ts, shared with the webhook
 * routes) → epoch ms; anything else a 400 naming the parameter. isoTimeField: the same range
 * for a time in a body, kept as the text sent.
 */
export { isoTimeField, timeParam } from '@tillwatch/contracts';
export const authorField = z.string().trim().min(1).max(64).optional();
export const noteField = z.string().trim().min(1).max(4000);

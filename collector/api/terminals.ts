import type { FastifyInstance, FastifyReply } from 'fastify';
import { idParams } from '../../shared/api/common.js';
import {
  newTerminalBody,
  terminal,
  terminalList,
  terminalPatchBody,
  terminalQuery,
  unregisteredAgentList,
} from '../../shared/api/register.js';
import { ClockRefusal } from '../clocks/clock-requests.js';
import type { RegisterTransfer } from '../register/register-transfer.js';
import type { TerminalRegister } from '../register/terminal-register.js';
import { registerSheetRoutes } from './sheet-routes.js';
import { RegisterConflict } from '../store/register/register-store.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * The terminal register (SPEC §8, issue 17): `GET|POST /api/v1/terminals`,
 * `GET|PATCH /api/v1/terminals/{id}`, `GET /api/v1/terminals/unregistered`. The register itself
 * is collector/register/; these routes parse, call, answer.
 */
export const registerIdParams = requestSchema(idParams);

/** The refusals of a register write: bad input, unknown, a conflict (a 编号 or account taken), or the key. */
export const registerWriteErrors = {
  400: errorSchema,
  404: errorSchema,
  409: errorSchema,
  ...authErrorResponses,
} as const;

/** A register refusal as its status; anything else is a bug and goes on as a 500. */
export function sendRegisterError(err: unknown, reply: FastifyReply) {
  if (err instanceof ClockRefusal) return reply.code(err.statusCode).send({ error: err.message });
  if (err instanceof RegisterConflict) return reply.code(409).send({ error: err.message });
  throw err;
}

/** `work`'s answer, or the refusal it threw. */
export async function answer<T>(reply: FastifyReply, work: () => Promise<T>, status = 200) {
  try {
    const result = await work();
    return reply.code(status).send(result);
  } catch (err) {
    return sendRegisterError(err, reply);
  }
}

/** The register's service and its 台账 files, as the API uses them. */
export interface RegisterApiDeps {
  register: TerminalRegister;
  transfer: RegisterTransfer;
}

export function terminalRoutes({ register, transfer }: RegisterApiDeps) {
  return async (fastify: FastifyInstance) => {
    registerSheetRoutes(fastify, {
      resource: 'terminals',
      fileName: '涉密计算机台账',
      exportSheet: (principal, format) => transfer.exportTerminals(principal, format),
      importSheet: (caller, format, body) => transfer.importTerminals(caller, format, body),
    });
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['register'];
    const security = [{ bearer: [] }];
    const terminalSchema = responseSchema(terminal);

    app.get(
      '/api/v1/terminals',
      {
        config: { permission: 'agents.read' },
        schema: {
          summary: 'The terminal register (涉密计算机台账), filtered and searched',
          tags,
          security,
          querystring: requestSchema(terminalQuery),
          response: { 200: responseSchema(terminalList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => ({ items: await register.listTerminals(request.principal, request.query) }),
    );

    app.get(
      '/api/v1/terminals/unregistered',
      {
        config: { permission: 'agents.read' },
        schema: {
          summary: 'Enrolled agents the register does not hold yet, for an officer to register',
          tags,
          security,
          response: { 200: responseSchema(unregisteredAgentList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await register.listUnregistered(request.principal) }),
    );

    app.get(
      '/api/v1/terminals/:id',
      {
        config: { permission: 'agents.read' },
        schema: {
          summary: 'One terminal with its inventory and its history of changes',
          tags,
          security,
          params: registerIdParams,
          response: { 200: terminalSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      (request, reply) => answer(reply, () => register.getTerminal(request.principal, request.params.id)),
    );

    app.post(
      '/api/v1/terminals',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Register a terminal (an enrolled agent, or a device before its agent is installed)',
          tags,
          security,
          body: requestSchema(newTerminalBody),
          response: { 201: terminalSchema, ...registerWriteErrors },
        },
      },
      (request, reply) =>
        answer(
          reply,
          () => register.createTerminal({ principal: request.principal, ip: request.ip }, request.body),
          201,
        ),
    );

    app.patch(
      '/api/v1/terminals/:id',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Change register fields; every change is audited with before and after',
          tags,
          security,
          params: registerIdParams,
          body: requestSchema(terminalPatchBody),
          response: { 200: terminalSchema, ...registerWriteErrors },
        },
      },
      (request, reply) =>
        answer(reply, () =>
          register.changeTerminal(
            { principal: request.principal, ip: request.ip },
            request.params.id,
            request.body,
          ),
        ),
    );
  };
}

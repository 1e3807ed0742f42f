import type { FastifyInstance } from 'fastify';
import { okBody } from '../../shared/api/common.js';
import { newPersonBody, person, personList, personPatchBody } from '../../shared/api/register.js';
import { z } from 'zod';
import { registerSheetRoutes } from './sheet-routes.js';
import { answer, registerIdParams, registerWriteErrors, type RegisterApiDeps } from './terminals.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * The persons of the register (issue 17): 责任人 of terminals and the people behind OS accounts.
 * `GET|POST /api/v1/persons`, `GET|PATCH|DELETE /api/v1/persons/{id}`.
 */
const personQuery = z.object({ unit: z.string().max(200).optional(), q: z.string().max(200).optional() });

export function personRoutes({ register, transfer }: RegisterApiDeps) {
  return async (fastify: FastifyInstance) => {
    registerSheetRoutes(fastify, {
      resource: 'persons',
      fileName: '涉密人员',
      exportSheet: (principal, format) => transfer.exportPersons(principal, format),
      importSheet: (caller, format, body) => transfer.importPersons(caller, format, body),
    });
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['register'];
    const security = [{ bearer: [] }];
    const personSchema = responseSchema(person);

    app.get(
      '/api/v1/persons',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'Persons of the register (涉密人员): 责任人 and account holders',
          tags,
          security,
          querystring: requestSchema(personQuery),
          response: { 200: responseSchema(personList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await register.listPersons(request.principal, request.query) }),
    );

    app.get(
      '/api/v1/persons/:id',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'One person with the history of changes',
          tags,
          security,
          params: registerIdParams,
          response: { 200: personSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      (request, reply) => answer(reply, () => register.getPerson(request.principal, request.params.id)),
    );

    app.post(
      '/api/v1/persons',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Add a person to the register',
          tags,
          security,
          body: requestSchema(newPersonBody),
          response: { 201: personSchema, ...registerWriteErrors },
        },
      },
      (request, reply) =>
        answer(
          reply,
          () => register.createPerson({ principal: request.principal, ip: request.ip }, request.body),
          201,
        ),
    );

    app.patch(
      '/api/v1/persons/:id',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Change a person (离岗 raises a warning for each terminal still assigned)',
          tags,
          security,
          params: registerIdParams,
          body: requestSchema(personPatchBody),
          response: { 200: personSchema, ...registerWriteErrors },
        },
      },
      (request, reply) =>
        answer(reply, () =>
          register.changePerson(
            { principal: request.principal, ip: request.ip },
            request.params.id,
            request.body,
          ),
        ),
    );

    app.delete(
      '/api/v1/persons/:id',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Remove a person who is no terminal’s 责任人',
          tags,
          security,
          params: registerIdParams,
          response: { 200: responseSchema(okBody), ...registerWriteErrors },
        },
      },
      (request, reply) =>
        answer(reply, async () => {
          await register.deletePerson({ principal: request.principal, ip: request.ip }, request.params.id);
          return { ok: true };
        }),
    );
  };
}

import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ROLE_NAMES } from '../../shared/terms.js';
import { allows, isPermission, PERMISSIONS, type Permission } from '../auth/permissions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs (collector/auth/permissions.ts); every route names one. */
    permission?: Permission;
  }
  interface FastifyInstance {
    /** Every route of the API with its permission (set by buildApi). */
    declaredRoutes: readonly DeclaredRoute[];
  }
}

/** A route as the role × route table lists it (test/integration/roles-routes.test.ts, docs/roles.md). */
export interface DeclaredRoute {
  method: string;
  url: string;
  permission: Permission;
}

/**
 * Refuses to register a route that declares no permission, so a route added without thinking
 * about who may call it stops the collector's start (and every test) instead of answering
 * anyone. Each route's OpenAPI description names its permission and roles. `seen` collects
 * the routes, for the role × route table.
 */
export function declarePermissions(app: FastifyInstance, seen?: DeclaredRoute[]): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const permission = route.config?.permission;
    const methods = [route.method].flat();
    if (!isPermission(permission)) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares no permission: add config: { permission } ` +
          `naming a row of collector/auth/permissions.ts (found ${JSON.stringify(permission)})`,
      );
    }
    if (route.schema) {
      const { roles } = PERMISSIONS[permission];
      const who = roles === 'anyone' ? 'no login' : roles.join(', ');
      const note = `Permission: ${permission} (${who}).`;
      route.schema.description = route.schema.description ? `${route.schema.description}\n\n${note}` : note;
    }
    for (const method of methods) seen?.push({ method, url: route.url, permission });
  });
}

/** The permission of the route a request matched; undefined for an unknown path (answered 404). */
export function routePermission(request: FastifyRequest): Permission | undefined {
  const permission = request.routeOptions.config?.permission;
  return isPermission(permission) ? permission : undefined;
}

/** 403 for a caller whose role does not hold the route's permission; true when it does. */
export function checkPermission(
  request: FastifyRequest,
  reply: FastifyReply,
  permission: Permission,
): boolean {
  const role = request.principal?.role;
  if (allows(role, permission)) return true;
  const { roles } = PERMISSIONS[permission];
  const holders = roles === 'anyone' ? [] : roles;
  void reply.code(403).send({
    error: `role ${role ?? 'none'} may not do this (${permission}: ${holders.join(', ')})`,
    errorZh: `${role ? ROLE_NAMES[role].zh : '未登录'}无此权限（${holders.map((r) => ROLE_NAMES[r].zh).join('、')}可以）`,
    reason: 'permission',
  });
  return false;
}

import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { AuditAction } from '../../audit/audit';
import { listAuditEvents } from '../../audit/audit-query';
import { Role } from '../../entities/enums';
import { badInput, forbidden } from '../../errors';
import { isUuid } from '../../exports/selection';
import type { ApiContext } from '../context';
import { AuditEventFilter } from './types/audit.input';
import { PageInfo, checkPageSize, decodeCursor, encodeCursor } from './types/connection';

const CURSOR_TAG = 'aud';
const MAX_AUDIT_PAGE = 200;

@ObjectType({ description: 'Who did what to which export or setting, and when' })
export class AuditEvent {
  @Field(() => ID)
  id: string;

  @Field(() => AuditAction)
  action: AuditAction;

  @Field({ description: "The token's subject (sub)" })
  actor: string;

  @Field(() => [String], { description: 'The roles of the token' })
  roles: string[];

  @Field({ description: 'EXPORT or ACCOUNTING_SETTINGS' })
  targetType: string;

  @Field(() => String, { nullable: true })
  targetId: string | null;

  @Field(() => Date)
  at: Date;

  @Field(() => String, { nullable: true, description: 'The X-Request-Id of the request (as in the logs)' })
  requestId: string | null;
}

@ObjectType()
class AuditEventEdge {
  @Field()
  cursor: string;

  @Field(() => AuditEvent)
  node: AuditEvent;
}

@ObjectType()
class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'ADMIN only: the audit trail of the caller\'s organisation, newest first' })
  async auditEvents(
    @Ctx() ctx: ApiContext,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<AuditEventConnection> {
    if (!ctx.principal.roles.includes(Role.ADMIN)) throw forbidden('The audit trail is for the ADMIN role');
    const size = first ?? 50;
    checkPageSize(size, MAX_AUDIT_PAGE);
    if (filter?.from && filter.to && filter.from >= filter.to) throw badInput('filter.from must be before filter.to');
    const afterId = after ? decodeCursor(CURSOR_TAG, after, (v): v is string => typeof v === 'string' && isUuid(v)) : null;
    const page = await listAuditEvents(ctx.services.dataSource, ctx.principal.tenantId, filter ?? {}, size, afterId);
    const edges = page.events.map((node) => ({ node, cursor: encodeCursor(CURSOR_TAG, node.id) }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}

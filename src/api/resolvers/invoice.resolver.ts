import { Arg, Ctx, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Invoice, InvoiceLine, Payer } from '../../entities';
import { isCalendarDate } from '../../entities/scalars';
import { AppError, ErrorCode } from '../../errors';
import { isUuid, validateFilter } from '../../exports/selection';
import { InvoiceCursor, countInvoices, findInvoice, findInvoicePage } from '../../invoices/invoice-query';
import type { ApiContext } from '../context';
import { InvoiceFilter } from './types/invoice-filter.input';
import { PageInfo, checkPageSize, decodeCursor, encodeCursor } from './types/connection';

export const MAX_PAGE_SIZE = 500;
const CURSOR_TAG = 'inv';

@ObjectType()
class InvoiceEdge {
  @Field()
  cursor: string;

  @Field(() => Invoice)
  node: Invoice;
}

@ObjectType()
class InvoiceConnection {
  @Field(() => [InvoiceEdge])
  edges: InvoiceEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  /** Counted only when asked for. */
  count: () => Promise<number>;

  @Field(() => Int, { description: 'Invoices matching the filter, all pages together' })
  totalCount(): Promise<number> {
    return this.count();
  }
}

const isInvoiceCursor = (v: unknown): v is InvoiceCursor =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && isCalendarDate(v[0]) && typeof v[1] === 'string';

@Resolver(() => Invoice)
export class InvoiceResolver {
  @Query(() => InvoiceConnection, { description: 'Facturation / Factures et avoirs: newest first' })
  async invoices(
    @Ctx() ctx: ApiContext,
    @Arg('filter', () => InvoiceFilter, { nullable: true }) filter: InvoiceFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<InvoiceConnection> {
    const size = first ?? 50;
    checkPageSize(size, MAX_PAGE_SIZE);
    validateFilter(filter);
    const cursor = after ? decodeCursor(CURSOR_TAG, after, isInvoiceCursor) : null;
    const { dataSource } = ctx.services;
    const { tenantId } = ctx.principal;
    const page = await findInvoicePage(dataSource, tenantId, filter, size, cursor);
    const edges = page.invoices.map((node) => ({ node, cursor: encodeCursor(CURSOR_TAG, [node.billingDate, node.number]) }));
    const connection = new InvoiceConnection();
    connection.edges = edges;
    connection.pageInfo = { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null };
    connection.count = () => countInvoices(dataSource, tenantId, filter);
    return connection;
  }

  @Query(() => Invoice, { nullable: true, description: "null when the id is unknown or another tenant's" })
  async invoice(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<Invoice | null> {
    if (!isUuid(id)) return null;
    return findInvoice(ctx.services.dataSource, ctx.principal.tenantId, id);
  }

  @FieldResolver(() => Payer)
  async payer(@Root() invoice: Invoice, @Ctx() ctx: ApiContext): Promise<Payer> {
    const payer = await ctx.loaders.payer.load(invoice.payerId);
    // The composite foreign key makes this impossible; say so loudly if it happens.
    if (!payer) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, `Invoice ${invoice.number} has no payer`);
    return payer;
  }

  @FieldResolver(() => [InvoiceLine])
  lines(@Root() invoice: Invoice, @Ctx() ctx: ApiContext): Promise<InvoiceLine[]> {
    return ctx.loaders.lines.load(invoice.id);
  }
}

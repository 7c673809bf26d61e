import { Field, ObjectType } from 'type-graphql';
import { badInput } from '../../../errors';

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

/** Opaque cursors: base64url of a tagged JSON value, so clients cannot build or mix them. */
export function encodeCursor(tag: string, value: unknown): string {
  return Buffer.from(JSON.stringify([tag, value]), 'utf8').toString('base64url');
}

export function decodeCursor<T>(tag: string, cursor: string, check: (v: unknown) => v is T): T {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed[0] === tag && check(parsed[1])) return parsed[1];
  } catch {
    // fall through
  }
  throw badInput(`"after" is not a valid cursor: use the endCursor or cursor of a previous page`);
}

export function checkPageSize(first: number, max: number): void {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(`"first" must be between 1 and ${max} (got ${first})`);
  }
}

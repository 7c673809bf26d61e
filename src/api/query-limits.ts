/**
 * Limits on every GraphQL operation, checked before anything runs, over HTTP
 * (Apollo) and WebSocket (graphql-ws) alike (docs/api.md, "Limits"; issue 9):
 *
 * - GRAPHQL_MAX_TOKENS: the parser stops counting lexical tokens beyond it,
 *   so a huge document costs no more than the limit to refuse;
 * - GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_DIRECTIVES:
 *   validation rules (graphql-armor);
 * - GRAPHQL_MAX_COST: an estimate of the work, with the variables known:
 *   every field costs 1, and a field with a page size (`first`) or a list of
 *   a known typical length multiplies the cost of what is selected inside it.
 *   `invoices(first: 500) { edges { node { lines { label } } } }` costs
 *   500 × (1 + 1 + 1 + 10 × 1) + 1 ≈ 6,500; a thousand aliases of it, 6.5 M.
 * - text inputs: a control character (NUL…) in any string argument or
 *   variable is refused here, before it can reach PostgreSQL.
 *
 * Every refusal is BAD_USER_INPUT with `extensions.limit` naming the
 * variable that sets the limit, and HTTP status 400.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  DocumentNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  ValidationContext,
  ValidationRule,
  getNamedType,
  isListType,
  getNullableType,
  visit,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { Config } from '../config';
import { ErrorCode } from '../errors';

export type LimitsConfig = Pick<
  Config,
  'graphqlMaxDepth' | 'graphqlMaxAliases' | 'graphqlMaxTokens' | 'graphqlMaxDirectives' | 'graphqlMaxCost' | 'graphqlIntrospection'
>;

/** Typical length of a list field that has no page size (an invoice's lines). */
const LIST_ESTIMATE = 10;

export function limitError(limit: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, limit, ...extra, http: { status: 400 } } });
}

/** graphql-armor rules report through our error (propagateOnRejection false: they would otherwise throw out of validate()). */
function armor(limit: string, n: number) {
  return {
    n,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, err: GraphQLError) => {
        ctx?.reportError(limitError(limit, `${err.message.replace(/^Syntax Error: /, '')} (${limit})`));
      },
    ],
  };
}

/** Validation rules added to graphql's own, for Apollo and for the WebSocket. */
export function limitValidationRules(config: LimitsConfig): ValidationRule[] {
  const rules: ValidationRule[] = [
    maxDepthRule({ ...armor('GRAPHQL_MAX_DEPTH', config.graphqlMaxDepth), ignoreIntrospection: true }) as ValidationRule,
    maxAliasesRule(armor('GRAPHQL_MAX_ALIASES', config.graphqlMaxAliases)) as ValidationRule,
    maxDirectivesRule(armor('GRAPHQL_MAX_DIRECTIVES', config.graphqlMaxDirectives)) as ValidationRule,
  ];
  return rules;
}

/** Over the WebSocket, where Apollo's `introspection: false` does not reach. */
export function introspectionRules(config: LimitsConfig): ValidationRule[] {
  return config.graphqlIntrospection ? [] : [NoSchemaIntrospectionCustomRule];
}

/** Parser options: graphql-js stops at maxTokens, so a 60 KB flood is cut short. */
export const parseOptions = (config: LimitsConfig) => ({ maxTokens: config.graphqlMaxTokens });

/** graphql-js's own message for maxTokens, rewritten to name the variable. */
export function tokenLimitError(err: GraphQLError, config: LimitsConfig): GraphQLError | undefined {
  if (!/Document contains more th\w+ \d+ tokens/.test(err.message)) return undefined; // sic: "more that" in graphql 16
  return limitError('GRAPHQL_MAX_TOKENS', `The document has more than ${config.graphqlMaxTokens} tokens (GRAPHQL_MAX_TOKENS)`);
}

const pageSizeEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (typeof args.first === 'number' && args.first > 0) return 1 + args.first * childComplexity;
  if (isListType(getNullableType(field.type)) && getNamedType(field.type) !== undefined && childComplexity > 0) {
    // A list without a page size: an invoice's lines. The edges of a
    // connection are already counted by its `first`.
    return field.name === 'edges' ? 1 + childComplexity : 1 + LIST_ESTIMATE * childComplexity;
  }
  return 1 + childComplexity;
};

/** The estimated cost of the operation, with its variables. */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined | null, variables: Record<string, unknown> | undefined) {
  return getComplexity({
    estimators: [pageSizeEstimator],
    schema,
    query: document,
    operationName: operationName ?? undefined,
    variables: variables ?? {},
    maxQueryNodes: 20_000,
  });
}

// C0 controls but tab, LF and CR; DEL. PostgreSQL refuses NUL in text; the others mean nothing in our inputs.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

const describeChar = (s: string) => {
  const c = CONTROL.exec(s)![0];
  return `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
};

/** The path of the first string holding a control character, in a variables object. */
function controlIn(value: unknown, path: string, depth = 0): { path: string; char: string } | undefined {
  if (typeof value === 'string') return CONTROL.test(value) ? { path, char: describeChar(value) } : undefined;
  if (depth > 20 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = controlIn(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const found = controlIn(v, `${path}.${k}`, depth + 1);
    if (found) return found;
    if (CONTROL.test(k)) return { path: `${path}.${k}`, char: describeChar(k) };
  }
  return undefined;
}

export function controlCharacterError(document: DocumentNode, variables: Record<string, unknown> | undefined): GraphQLError | undefined {
  const inVariables = controlIn(variables ?? {}, '$');
  if (inVariables) {
    return limitError('TEXT_INPUT', `Variable ${inVariables.path.replace(/^\$\./, '$')} contains a control character (${inVariables.char}): text inputs may not`);
  }
  let found: GraphQLError | undefined;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (!found && CONTROL.test(node.value)) {
        const line = node.loc ? ` at line ${node.loc.startToken.line}` : '';
        found = limitError('TEXT_INPUT', `A string argument${line} contains a control character (${describeChar(node.value)}): text inputs may not`);
      }
    },
  });
  return found;
}

/** The checks that need the variables: the cost and the text inputs. Undefined when the operation may run. */
export function checkOperation(
  config: LimitsConfig,
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined | null,
  variables: Record<string, unknown> | undefined,
): GraphQLError | undefined {
  const text = controlCharacterError(document, variables);
  if (text) return text;
  let cost: number;
  try {
    cost = operationCost(schema, document, operationName, variables);
  } catch (err) {
    // Too many nodes to even count, or variables that do not coerce (graphql reports those itself later).
    if (err instanceof GraphQLError && /maximum|nodes/i.test(err.message)) {
      return limitError('GRAPHQL_MAX_COST', `The operation is too large to estimate (GRAPHQL_MAX_COST ${config.graphqlMaxCost})`);
    }
    return undefined;
  }
  if (cost > config.graphqlMaxCost) {
    return limitError(
      'GRAPHQL_MAX_COST',
      `The operation's estimated cost ${cost} exceeds the limit of ${config.graphqlMaxCost} (GRAPHQL_MAX_COST): ask for smaller pages (first), fewer aliases or fewer fields`,
      { cost, maxCost: config.graphqlMaxCost },
    );
  }
  return undefined;
}

/** Apollo: the cost and text checks once the operation is known, before execution. */
export function limitsPlugin(config: LimitsConfig): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, schema }) {
          const refused = checkOperation(config, schema, document, request.operationName, request.variables as Record<string, unknown> | undefined);
          if (refused) throw refused;
        },
      };
    },
  };
}

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { createSchema } from '../src/api/schema';

/** `npm run schema:print`: rewrites schema.graphql from the code (a test fails when they drift). */
export async function printedSchema(): Promise<string> {
  const header = '# Printed from the code by `npm run schema:print`; do not edit by hand.\n\n';
  return header + printSchema(await createSchema()) + '\n';
}

if (require.main === module) {
  printedSchema().then((text) => {
    writeFileSync(path.join(__dirname, '..', 'schema.graphql'), text);
    console.log('schema.graphql written');
  });
}

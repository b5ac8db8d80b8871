#!/usr/bin/env node
'use strict';
// Writes docs/kiln.schema.json and the generated reference tables of
// docs/configuration.md from the config classes and the built-in plugins' options
// classes (run `npm run schema`, which builds first). test/testing/json-schema.test.ts
// regenerates both in memory and fails when the committed files differ.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const kiln = require(path.join(root, 'dist/src/index.js'));
// The reference renderer is internal: the package exports only kilnJsonSchema.
const { renderConfigReference } = require(path.join(root, 'dist/src/config/index.js'));

const BEGIN = '<!-- BEGIN GENERATED REFERENCE (npm run schema) -->';
const END = '<!-- END GENERATED REFERENCE -->';

/** The built-in plugins: every @Plugin class the package exports. */
const plugins = Object.values(kiln)
  .map((value) => kiln.pluginMetaOf(value))
  .filter(Boolean);

const schemaFile = path.join(root, 'docs/kiln.schema.json');
fs.writeFileSync(schemaFile, `${JSON.stringify(kiln.kilnJsonSchema({ plugins }), null, 2)}\n`);

const docFile = path.join(root, 'docs/configuration.md');
const doc = fs.readFileSync(docFile, 'utf8');
const begin = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (begin < 0 || end < begin) {
  console.error(`${docFile}: the markers ${BEGIN} and ${END} are missing`);
  process.exit(1);
}
const generated = `${BEGIN}\n\n${renderConfigReference({ plugins })}\n${END}`;
fs.writeFileSync(docFile, `${doc.slice(0, begin)}${generated}${doc.slice(end + END.length)}`);
console.log(`wrote ${path.relative(root, schemaFile)} and the reference in ${path.relative(root, docFile)} (${plugins.length} plugins)`);

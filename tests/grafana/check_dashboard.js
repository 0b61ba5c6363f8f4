#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// check_dashboard - user/grafana/bmtrace.json against Grafana's own dashboard schema. No
// Grafana server is packaged for Debian or npm, so the schema comes from Grafana's
// @grafana/grafana-foundation-sdk: the TypeScript types Grafana generates from the schemas
// its server uses (dashboard, each panel type's options and field config, the Prometheus
// query), turned into JSON Schema by ts-json-schema-generator, with no property outside the
// types allowed, and checked with ajv. Then what a schema cannot say: every query's data
// source is the dashboard's ${datasource} variable, every variable used is defined (or one of
// Grafana's own), panel ids are unique, panels do not overlap on the 24-column grid.
//
//   npm ci --prefix tests/grafana && node tests/grafana/check_dashboard.js user/grafana/bmtrace.json
// Exit 0 when it passes; 1 with one line per problem.
'use strict';
const fs = require('fs');
const path = require('path');
const tsj = require('ts-json-schema-generator');
const Ajv = require('ajv');

const sdk = path.join(__dirname, 'node_modules/@grafana/grafana-foundation-sdk/dist');
const ajv = new Ajv({ allErrors: true, strict: false });
const problems = [];
const schemas = new Map();

// The validator of type in module (dashboard, heatmap, ...); null when the module has none.
function validator(module, type) {
	const key = module + '.' + type;
	const file = path.join(sdk, module, 'types.gen.d.ts');

	if (!schemas.has(key)) {
		let v = null;

		if (fs.existsSync(file) &&
		    new RegExp(`(interface|type) ${type}\\b`).test(fs.readFileSync(file, 'utf8'))) {
			const schema = tsj.createGenerator({ path: file, type, skipTypeCheck: true,
				additionalProperties: false }).createSchema(type);

			/*
			 * A panel's queries are its data source's (a variant, cog.Dataquery, without a
			 * property of its own): each is checked against prometheus.Dataquery below.
			 */
			if (schema.definitions && schema.definitions.Dataquery && module === 'dashboard')
				schema.definitions.Dataquery = {};
			v = ajv.compile(schema);
		}
		schemas.set(key, v);
	}
	return schemas.get(key);
}

function check(what, module, type, value, required) {
	const v = validator(module, type);

	if (!v) {
		if (required)
			problems.push(`${what}: Grafana has no ${module}.${type} schema`);
		return;
	}
	if (!v(value))
		for (const e of v.errors)
			problems.push(`${what}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
}

const file = process.argv[2];
const dash = JSON.parse(fs.readFileSync(file, 'utf8'));
const builtins = ['__rate_interval', '__interval', '__range', '__range_s'];
const vars = new Set(dash.templating.list.map((v) => v.name).concat(builtins));
const ids = new Set();
const cells = new Set();

check('dashboard', 'dashboard', 'Dashboard', dash, true);
for (const p of dash.panels) {
	const what = `panel ${p.id} "${p.title}"`;

	if (ids.has(p.id))
		problems.push(`${what}: id used twice`);
	ids.add(p.id);
	for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
		for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
			if (x >= 24 || cells.has(`${x},${y}`))
				problems.push(`${what}: overlaps another panel or the grid's edge at ${x},${y}`);
			cells.add(`${x},${y}`);
		}
	if (p.type === 'row')
		continue;
	check(`${what} options`, p.type, 'Options', p.options, true);
	check(`${what} fieldConfig.defaults.custom`, p.type, 'FieldConfig',
	      p.fieldConfig.defaults.custom || {}, false);
	for (const t of [p].concat(p.targets)) {
		if (t.datasource.type !== 'prometheus' || t.datasource.uid !== '${datasource}')
			problems.push(`${what}: a data source other than \${datasource}`);
	}
	for (const t of p.targets) {
		check(`${what} query ${t.refId}`, 'prometheus', 'Dataquery', t, true);
		for (const m of (t.expr + ' ' + (t.legendFormat || '')).matchAll(/\$\{?(\w+)/g))
			if (!vars.has(m[1]))
				problems.push(`${what} query ${t.refId}: no variable ${m[1]}`);
	}
}
for (const p of problems)
	console.log(`check_dashboard: ${file}: ${p}`);
console.log(`check_dashboard: ${file}: ${dash.panels.length} panels, ` +
	    `${problems.length ? problems.length + ' problems' : 'valid'}`);
process.exit(problems.length ? 1 : 0);

// Runs SQL statements with DuckDB and prints their results as JSON.
//
// Input (stdin): a JSON array of SQL strings. Output (stdout): a JSON
// array with one element per statement, {"rows": [...]} or
// {"error": "..."}; a failing statement does not stop the others.
import { DuckDBInstance } from '@duckdb/node-api';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const statements = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const out = [];
for (const sql of statements) {
  try {
    const reader = await con.runAndReadAll(sql);
    out.push({ rows: reader.getRowObjectsJson() });
  } catch (e) {
    out.push({ error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(out));

// The PouchDB peer fieldnotes-bench runs side by side with the hub: PouchDB 9 (LevelDB on
// disk) behind express-pouchdb 4.2.0, on a loopback port, in MODE: minimumForPouchDB (the
// default here: only the routes a PouchDB client syncs through, with gzip responses) or
// fullCouchDB (express-pouchdb's own default, as pouchdb-server runs it).
//
//   node server.js DATA_DIR [MODE]
//
// It prints one line of JSON, {"url": "http://127.0.0.1:PORT"}, once it listens, and exits
// when its standard input closes (so it never outlives the harness that started it).
'use strict';

const path = require('path');
const fs = require('fs');
const express = require('express');
const PouchDB = require('pouchdb');
const expressPouchDB = require('express-pouchdb');

const dir = process.argv[2];
const mode = process.argv[3] || 'minimumForPouchDB';
if (!dir || !['minimumForPouchDB', 'fullCouchDB'].includes(mode)) {
  console.error('usage: node server.js DATA_DIR [minimumForPouchDB|fullCouchDB]');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

const DB = PouchDB.defaults({ prefix: path.resolve(dir) + path.sep });
const app = express();
app.use('/', expressPouchDB(DB, {
  mode: mode,
  configPath: path.join(dir, 'config.json'),
  logPath: path.join(dir, 'log.txt'),
}));

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port }) + '\n');
});
server.keepAliveTimeout = 60000;

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));

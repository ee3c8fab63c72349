// The primer's Express backend (../shared/seeds/container-primer.txt), with
// GET /db: one row inserted through pg per call, the row count returned.
const express = require('express');
const { Pool } = require('pg');

const app = express();
const port = process.env.PORT || 3000;
const pool = new Pool({ connectionString: process.env.DATABASE_URL });

app.get('/', (req, res) => {
  res.json({ message: 'Hello from a containerized backend!' });
});

app.get('/db', async (req, res) => {
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    await pool.query('INSERT INTO visits DEFAULT VALUES');
    const result = await pool.query('SELECT count(*)::int AS count FROM visits');
    res.json({ count: result.rows[0].count });
  } catch (err) {
    res.status(500).json({ error: err.message });
  }
});

app.listen(port, () => {
  console.log(`Backend running on port ${port}`);
});

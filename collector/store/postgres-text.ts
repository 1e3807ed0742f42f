/** Where the PostgreSQL twins not yet written once still import it from; the Database applies it to every value. */
export { stripNul } from './sql/database.js';

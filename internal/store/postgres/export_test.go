package postgres

// Migrations is the number of schema migrations, for the tests.
var Migrations = len(migrations) - 1

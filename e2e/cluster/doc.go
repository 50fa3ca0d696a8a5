// Package cluster holds the tests of several `twofactor serve` instances
// sharing one PostgreSQL database (SPEC §9.2, §10.1): three complete
// handlers — each with its own internal/app (store pool, core service,
// in-process rate limiter) and internal/server handler on its own local
// port, all with the same database and secret key — raced by one client
// that sends the same code to many login challenges, round-robin over the
// instances. Exactly one sign-in may succeed, whatever instance each
// request reaches and whether the throttles are on or off.
//
// The package has no code outside its tests. The tests need a PostgreSQL
// server named by TWOFACTOR_TEST_POSTGRES; without it they skip, or fail
// when TWOFACTOR_TEST_REQUIRE_ALL=1 (see internal/testenv).
package cluster

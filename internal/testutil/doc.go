// Package testutil holds test helpers that the tests of more than one
// package of this module use.
package testutil

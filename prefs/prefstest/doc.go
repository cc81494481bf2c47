// Package prefstest gives tests a fresh, empty preference database of each
// kind prefs supports, so that every package can test against both, and a
// pair whose images are in a store.
package prefstest

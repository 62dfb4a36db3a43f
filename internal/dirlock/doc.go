// Package dirlock gives one process at a time a directory: the local
// runtime takes its data directory's lock before it opens the databases,
// so a second `stepmon serve` on the same --data fails at once instead of
// re-arming the same timers and running every monitor twice.
//
// The lock is an advisory lock on a file in the directory (flock on Unix,
// LockFileEx on Windows); on Unix the directory itself is locked too, so
// that removing the lock file does not let a second process in. The operating system releases it when the
// process exits, however it exits, so a `kill -9` never leaves a stale
// lock behind.
package dirlock

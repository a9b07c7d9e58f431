// Package config is astcti's configuration: the model (services, their
// variables, seats, operators and their memberships), its
// storage and its hot reload.
//
// The configurator edits a working SQLite database (Store). "Apply" writes a
// snapshot of it (Store.Apply): a complete, self-contained SQLite file with a
// unique name (SnapshotName), written under a temporary name and renamed
// into the server's configuration directory, so the server never sees half
// a file, with a modification time after every other snapshot's there: the
// newest snapshot is the one written last, by modification time, never by
// the date in its name. The same content can be exported to and imported from the
// XML format of docs/config.md (WriteXML, ParseXML), a public contract that
// administrators write by hand; an .xml file in the directory is a snapshot
// too.
//
// The server never opens the working database. At start it loads the newest
// valid snapshot of its directory (LoadDir); then a Watcher (one goroutine,
// run and stopped by its owner through a context) notices new files with
// fsnotify, debounced, backed by a periodic rescan, and swaps the newest
// valid one into a Holder (or, when the file in force is deleted, the newest
// valid one left). A snapshot is opened read-only and immutable and
// never modified; one of an older schema is migrated in a copy in memory. It
// is validated completely (Model.Validate) before the swap; a refused file is
// logged with every problem and the configuration in force stays.
//
// A loaded configuration is an immutable *Snapshot of plain values with the
// lookups the server makes on every call (ServiceByContext, ServiceByQueue,
// Operator, SeatByMAC, SeatByInterface, Queues, MayOriginate). Readers call
// Holder.Current and see the old or the new snapshot whole. What a new
// configuration changes on the live system (queue memberships, sessions to
// end, seats that moved) is decided in one place, Diff, as a list of typed
// Changes that the server's hub applies.
//
// Manager users, the configurator's logins, live in a separate SQLite file
// (Users), with bcrypt passwords; they never reach a snapshot. Operator
// passwords are stored as salted PBKDF2 hashes of the MD5 hex that the seat
// protocol sends (HashPassword, Operator.CheckPassword).
//
// Both schemas are embedded and versioned with PRAGMA user_version: the
// migrations are a []string indexed by version, and a file of a newer
// version is refused (ErrSchemaTooNew).
package config

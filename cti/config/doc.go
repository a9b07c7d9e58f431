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
// # For the configurator (a web admin)
//
// The web UI and astcti config validate share one validation:
// Model.Validate, which every Store save also runs on the whole
// configuration with the saved row in it. A refusal is a *ValidationError
// whose Problems each say their item and field besides the message: Kind
// (KindSeat, KindOperator, KindService, KindVariable, KindMember), Index
// (the row in the model; for a variable or member, its service), Sub (the
// variable's or member's index), ID (the row's id in the Store), Field (the
// attribute as the XML format and the forms name it: "mac", "penalty", ...)
// and FieldKey ("mac", "member.2.penalty") to put the message beside its
// field. Numeric fields are parsed with ParsePenalty, as the XML reader
// does. Nothing is written when a save is refused.
//
// Typical handlers:
//
//	st := store.As(session.UserID)         // every change is audited as that user
//	m, _ := st.Model(ctx)                   // rows carry ID and Version
//	err := st.SaveSeat(ctx, &seat)          // seat.Version: the version the form showed
//	errors.Is(err, config.ErrStale)         // changed or removed meanwhile: *StaleError says by whom, when
//	errors.As(err, &ve)                     // *ValidationError: ve.Problems[i].FieldKey()
//	deps, _ := st.Dependents(ctx, config.KindOperator, id) // for the remove confirmation
//	err = st.DeleteOperator(ctx, id, version)
//	page, _ := st.Audit(ctx, config.AuditFilter{User: "bob", Text: "sales", Limit: 50})
//	next, _ := st.Audit(ctx, config.AuditFilter{Before: page[len(page)-1].ID})
//	path, _ := st.Apply(ctx, applyDir)      // audited; Snapshots says who applied what
//	files, _ := st.Snapshots(ctx, applyDir) // newest first, InForce, Previous, Err, By, At
//	path, _ = st.Rollback(ctx, applyDir)    // the previous one again, as a new newest file
//
// Versions: every row (a service with its variables and members) has a
// Version, returned by every read and save; a save or delete must give
// the version it read, so a second administrator saving an old form is
// refused (ErrStale), never a silent overwrite. A version is the id of the
// audit entry of the row's last change, so versions only grow, even when
// SQLite gives a new row a removed row's id. A change that alters how a row
// reads bumps it too: renaming an operator bumps its services (their
// members), changing or removing a seat bumps the operators whose fixed
// seat it is.
//
// Audit: every change through a Store records who (As; "" for a program),
// when, what (entity, row id, key, Action: add, edit, remove, import,
// apply, rollback) and the row before and after as JSON (an operator's
// password hash as a fingerprint that shows a change, never the hash).
// Audit reads it newest first, filtered, in pages of at most MaxAuditPage.
// Snapshots never carry the log.
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

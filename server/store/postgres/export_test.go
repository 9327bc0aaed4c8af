package postgres

// VacuumRan receives the outcome of each vacuum that follows an erasure.
func (db *DB) VacuumRan() <-chan error { return db.vacuum.ran }

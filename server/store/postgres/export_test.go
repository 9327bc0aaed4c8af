package postgres

// VacuumRan receives after each vacuum that follows an erasure.
func (db *DB) VacuumRan() <-chan struct{} { return db.vacuum.ran }

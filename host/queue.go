package host

// registerQueues plugs the queue and pipe services into the supervisor (not built yet).
func (s *Supervisor) registerQueues() {}

package bindings

// defineShared defines this file's part of the module (not built yet).
func (m *Module) defineShared() {}

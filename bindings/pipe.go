package bindings

// definePipe defines this file's part of the module (not built yet).
func (m *Module) definePipe() {}

import MTCommand

ToolMain.run(MTKnn.self)

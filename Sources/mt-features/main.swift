import MTCommand

ToolMain.run(MTFeatures.self)

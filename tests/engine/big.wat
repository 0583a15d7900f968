(module (memory 100))

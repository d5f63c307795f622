"""Small networks the tests build in either library (pass `cnnlab.nn` or `torch.nn`)."""


def small_cnn(lib):
    """The lecture notes' CNN as a Module subclass: conv(3,5,k5) -> maxpool2 -> conv(5,10,k5) -> maxpool2 ->
    flatten -> fc(250,32) -> fc(32,1), for 3x32x32 input."""
    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.Sequential(lib.Conv2d(3, 5, 5), lib.ReLU(), lib.MaxPool2d(2),
                                           lib.Conv2d(5, 10, 5), lib.ReLU(), lib.MaxPool2d(2))
            self.flatten = lib.Flatten()
            self.fc1 = lib.Linear(250, 32)
            self.fc2 = lib.Linear(32, 1)

        def forward(self, x):
            return self.fc2(self.fc1(self.flatten(self.features(x))).relu())

    return Net()

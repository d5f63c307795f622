"""LeNet-5 (LeCun et al., 1998) and the small CNN of the lecture notes."""
from .. import nn
from .registry import register_model


class LeNet5(nn.Module):
    """LeNet-5: two 5x5 convolution + pooling stages, then 120-84-classes fully connected layers.

    Args:
        num_classes (int, default 10).
        in_channels (int, default 1).
        input_size (int, default 28): 28 pads the first convolution by 2 so MNIST digits take the original
            32x32 path (28 -> 28 -> 14 -> 10 -> 5); 32 uses no padding.
        activation ('relu' or 'tanh', default 'relu'): tanh with pooling='avg' is the 1998 network.
        pooling ('max' or 'avg', default 'max').

    Shape: (N, in_channels, input_size, input_size) -> (N, num_classes).
    """

    def __init__(self, num_classes=10, in_channels=1, input_size=28, activation="relu", pooling="max"):
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 28 or 32. Got input_size={input_size}.")
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pooling]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=(32 - input_size) // 2), act(), pool(2),  # 6x14x14
            nn.Conv2d(6, 16, kernel_size=5), act(), pool(2),                                           # 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class LectureCNN(nn.Module):
    """The lecture notes' small network for 3x32x32 images:
    conv(3,5,k5) -> relu -> maxpool2 -> conv(5,10,k5) -> relu -> maxpool2 -> fc(250,32) -> relu -> fc(32,1).

    Args: num_classes (int, default 1: one logit for a binary task), in_channels (int, default 3).
    Shape: (N, in_channels, 32, 32) -> (N, num_classes).
    """

    def __init__(self, num_classes=1, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 5, 5)  # 5x28x28
        self.pool = nn.MaxPool2d(2)                # 5x14x14, later 10x5x5
        self.conv2 = nn.Conv2d(5, 10, 5)           # 10x10x10
        self.fc1 = nn.Linear(250, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(nn.functional.relu(self.conv1(x)))
        x = self.pool(nn.functional.relu(self.conv2(x)))
        x = x.flatten(1)
        return self.fc2(nn.functional.relu(self.fc1(x)))


@register_model("lenet5", "LeNet-5 for 1x28x28 digits (ReLU, max pooling; 61,706 parameters)", (1, 28, 28))
def lenet5(num_classes=10, in_channels=1, input_size=28, **kwargs):
    """LeNet-5 (see LeNet5); input_size=32 builds the unpadded 1998 layout for 32x32 images."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kwargs)


@register_model("lecture_cnn", "the lecture notes' small CNN for 3x32x32 images (conv5-pool-conv10-pool-fc32-fc)",
                (3, 32, 32))
def lecture_cnn(num_classes=1, in_channels=3):
    """The lecture notes' CNN (see LectureCNN)."""
    return LectureCNN(num_classes=num_classes, in_channels=in_channels)

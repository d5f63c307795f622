"""The adversarial-example (FGSM) tutorial: gradient with respect to the input, sign, clamp, re-classify."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc1 = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc1(x), dim=1)


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    return perturbed_image


if __name__ == "__main__":
    CHECK = {}
    model = Net()
    det_init(model, scale=0.5)
    model.eval()
    rng = np.random.default_rng(14)
    results = []
    for k in range(4):
        data = torch.tensor(rng.random((1, 1, 14, 14)), dtype=torch.float32)
        target = torch.tensor([k])
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        data_grad = data.grad.data
        perturbed_data = fgsm_attack(data, 0.1, data_grad)
        output = model(perturbed_data)
        final_pred = output.max(1, keepdim=True)[1]
        adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
        results.append((init_pred.item(), final_pred.item(), final_pred.item() == target.item(), adv_ex))
    CHECK["results"] = results
    CHECK["grad_sign"] = data_grad.sign()

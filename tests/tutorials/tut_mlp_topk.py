"""The 'classifying digits with an MLP' notebook style: view to vectors, LogSoftmax + NLLLoss, exp, topk,
accuracy through equals.type(torch.FloatTensor)."""
import numpy as np
import torch
from torch import nn, optim

if __name__ == "__main__":
    CHECK = {}
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))
    det_init(model)
    criterion = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.003)
    rng = np.random.default_rng(8)
    images = torch.tensor(rng.random((16, 1, 8, 8)), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 10, 16))
    losses = []
    for e in range(3):
        running_loss = 0
        images_v = images.view(images.shape[0], -1)
        optimizer.zero_grad()
        output = model(images_v)
        loss = criterion(output, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        losses.append(running_loss)
    CHECK["losses"] = losses
    with torch.no_grad():
        log_ps = model(images.view(16, -1))
    ps = torch.exp(log_ps)
    CHECK["ps_sum"] = ps.sum(dim=1)
    top_p, top_class = ps.topk(1, dim=1)
    CHECK["top_class"] = top_class
    CHECK["top_p"] = top_p
    equals = top_class == labels.view(*top_class.shape)
    CHECK["equals"] = equals
    accuracy = torch.mean(equals.type(torch.FloatTensor))
    CHECK["accuracy"] = accuracy.item()
    CHECK["acc_fmt"] = f'Accuracy: {accuracy.item()*100}%'
    CHECK["type_str"] = equals.type(torch.FloatTensor).type()
    CHECK["img_np"] = images[0].numpy().squeeze()
    CHECK["view_as"] = labels.view_as(top_class)
    img = images[0]
    CHECK["imshow_prep"] = np.transpose((img / 2 + 0.5).numpy(), (1, 2, 0))
    CHECK["np_asarray"] = np.asarray(img)
    CHECK["np_array_f64"] = np.array(img, dtype=np.float64)

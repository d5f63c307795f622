"""What tutorials print: tensors, shapes, dtypes, state_dict keys, a module's repr."""
import torch
import torch.nn as nn

if __name__ == "__main__":
    CHECK = {}
    t = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
    CHECK["tensor_repr"] = repr(t)
    CHECK["tensor_str"] = str(t)
    CHECK["int_repr"] = repr(torch.tensor([1, 2, 3]))
    CHECK["bool_repr"] = repr(torch.tensor([True, False]))
    CHECK["scalar_repr"] = repr(torch.tensor(3.5))
    CHECK["f64_repr"] = repr(torch.tensor([1.5, 2.0], dtype=torch.float64))
    CHECK["grad_repr"] = repr(torch.tensor([1.0, 2.0], requires_grad=True))
    CHECK["small_repr"] = repr(torch.tensor([0.001, 123.456, -7.0]))
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    CHECK["grad_fn_repr"] = [repr(w.sum()), repr(w * 2), repr((w * 2).mean()), repr(torch.relu(w)), repr(w.view(2, 1))]
    CHECK["loss_print"] = str(torch.nn.functional.mse_loss(w, torch.zeros(2)))
    CHECK["zeros_repr"] = repr(torch.zeros(2, 2, 2))
    CHECK["shape"] = str(t.shape)
    CHECK["size"] = repr(t.size())
    CHECK["dtype"] = str(t.dtype)
    CHECK["dtype_eq"] = t.dtype == torch.float32
    CHECK["fstring"] = f"{t.shape} {t.dtype} {t.sum().item():.2f}"
    CHECK["item_fmt"] = f"{t.mean():.3f}"
    m = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(16 * 4 * 4, 10), nn.LogSoftmax(dim=1))
    CHECK["seq_repr"] = repr(m)
    CHECK["keys"] = list(m.state_dict().keys())
    CHECK["keys_str"] = str(m.state_dict().keys())
    CHECK["param_repr"] = repr(nn.Linear(2, 1).weight)[:9]
    CHECK["misc_reprs"] = [repr(x) for x in [nn.Dropout(0.3), nn.LeakyReLU(0.1), nn.Softmax(dim=1),
                                            nn.BatchNorm1d(8), nn.CrossEntropyLoss(), nn.Identity(),
                                            nn.ConvTranspose2d(8, 4, 2, 2), nn.GroupNorm(2, 8),
                                            nn.LayerNorm([4, 4]), nn.Sigmoid(), nn.ReLU(inplace=True)]]

"""Device idioms and tensor conversions that tutorials sprinkle everywhere."""
import numpy as np
import torch
import torch.nn as nn

if __name__ == "__main__":
    CHECK = {}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"Using {device} device")
    CHECK["device"] = str(device)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(device)
    det_init(model)
    inputs = torch.Tensor([[1, 2, 3, 4], [0.5, -1, 2, 0]])
    CHECK["Tensor_list"] = inputs
    CHECK["Tensor_dtype"] = str(inputs.dtype)
    inputs = inputs.to(device)
    out = model(inputs)
    CHECK["out_np"] = out.detach().cpu().numpy()
    CHECK["out_cpu"] = out.cpu().detach()
    CHECK["float_tensor"] = torch.FloatTensor([1, 2, 3])
    CHECK["long_tensor"] = torch.LongTensor([1, 2, 3])
    CHECK["long_dtype"] = str(torch.LongTensor([1]).dtype)
    CHECK["type_cast"] = torch.tensor([1, 2]).type(torch.float32)
    CHECK["type_cast_dtype"] = str(torch.tensor([1, 2]).type(torch.float32).dtype)
    CHECK["type_str"] = torch.tensor([1.5]).type()
    CHECK["to_dtype"] = str(torch.tensor([1, 2]).to(torch.float64).dtype)
    CHECK["to_dev_dtype"] = str(torch.tensor([1, 2]).to(device, dtype=torch.float32).dtype)
    x = torch.zeros(8, 3, 28, 28)
    CHECK["size0"] = x.size(0)
    CHECK["shape1"] = tuple(x.shape[1:])
    CHECK["size_str"] = str(x.size())
    CHECK["argmax"] = torch.argmax(out, dim=1)
    CHECK["cat"] = torch.cat([inputs, inputs * 2], dim=0)
    CHECK["data"] = out.data
    CHECK["is_cuda"] = inputs.is_cuda
    CHECK["dev_type"] = inputs.device.type
    CHECK["param_device"] = str(next(model.parameters()).device)
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    CHECK["grad"] = w.grad.clone()
    w.grad.data.zero_()
    CHECK["grad_zeroed"] = w.grad
    model.eval()
    CHECK["training_eval"] = model.training
    model.train()
    CHECK["training_train"] = model[0].training
    CHECK["cuda_device_count"] = torch.cuda.device_count()
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch.from_numpy(arr).to(device)
    CHECK["from_numpy_to"] = t.cpu().numpy()
    CHECK["contig"] = t.t().contiguous().view(-1)
    CHECK["half_sum"] = t.double().sum().item()

"""The fast array algorithms behind convolution and pooling: pure NumPy, no autograd.

Import the modules, not their functions (`from cnnlab.kernels import im2col as k; k.im2col(...)`):
    im2col  sliding windows as columns (N-d, stride, dilation, asymmetric zero padding), col2im (its adjoint),
            channels-last variants of both, output_shape.
"""

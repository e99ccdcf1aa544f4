import os
import sys

# The stock-library loader beside these tests.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import { DevicePanel } from './DevicePanel';
import { Studio } from './studio/Studio';

export function App() {
  return (
    <main>
      <header>
        <h1>LoRASC Studio</h1>
        <p>
          Fine-tune GPT-2 language models and ViT image classifiers on your own data, on your own GPU, with
          LoRA, LoRA+, DoRA, COLA and LoRASC. Nothing leaves this machine.
        </p>
      </header>
      <Studio />
      <DevicePanel />
    </main>
  );
}
